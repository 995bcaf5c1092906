// Create an account; signup signs the person in (cookie mode), so it ends on the account page.
import { api, page, returnTo, onSubmit, values, clearMessage, keepReturnTo } from "./app.js";

keepReturnTo();
const form = document.getElementById("signup");
onSubmit(form, async () => {
  clearMessage();
  const { username, email, display_name, password } = values(form);
  const body = { username, password };
  if (email) body.email = email;
  if (display_name) body.display_name = display_name;
  await api("POST", "/signup", body);
  location.assign((await returnTo()) ?? page("account"));
});
