// Request a reset link: the API answers the same whether or not an account matches.
import { api, onSubmit, values, showMessage, clearMessage } from "./app.js";

const form = document.getElementById("forgot");
onSubmit(form, async () => {
  clearMessage();
  const { account } = values(form);
  await api("POST", "/forgot-password", account.includes("@") ? { email: account } : { username: account });
  showMessage("If an account matches, a link to reset its password is on its way to its email address. The link works once and expires soon.");
});
