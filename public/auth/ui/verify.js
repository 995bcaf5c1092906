// Confirm an email address with the token of a verification link (?token=...).
import { api, onSubmit, showMessage, showError, clearMessage, takeToken } from "./app.js";

const token = takeToken();
const form = document.getElementById("verify");
if (!token) {
  form.hidden = true;
  showError("This page needs the link from the verification email.");
}
onSubmit(form, async () => {
  clearMessage();
  await api("POST", "/verify-email", { token });
  form.hidden = true;
  showMessage("Thank you: your email address is verified.");
});
