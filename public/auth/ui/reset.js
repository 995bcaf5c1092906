// Set a new password with the token of a reset link (?token=...).
import { api, onSubmit, values, showMessage, showError, clearMessage, takeToken } from "./app.js";

const token = takeToken();
const form = document.getElementById("reset");
if (!token) {
  form.hidden = true;
  showError("This page needs the link from the reset email. Request a new link if you need one.");
}
onSubmit(form, async () => {
  clearMessage();
  const { new_password, confirm } = values(form);
  if (new_password !== confirm) throw new Error("The two passwords differ.");
  await api("POST", "/reset-password", { token, new_password });
  form.hidden = true;
  showMessage("Your password has been changed and every session signed out. Sign in with the new password.");
});
