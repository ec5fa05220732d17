// Refuses a file over the server's body limit before it is sent, with a message beside the
// form, so the visitor need not wait for the upload to be refused.
"use strict";

function guardUploads(root) {
  root.querySelectorAll("form[data-max-bytes]").forEach((form) => {
    const limit = Number(form.dataset.maxBytes);
    const message = form.querySelector("[role=alert]");
    const check = () => {
      const input = form.querySelector("input[type=file]");
      const file = input && input.files && input.files[0];
      const tooLarge = Boolean(file && file.size > limit);
      if (message) {
        message.hidden = !tooLarge;
        message.textContent = tooLarge
          ? `${file.name} is larger than ${Math.floor(limit / 1048576)} MB; choose a smaller file.`
          : "";
      }
      return !tooLarge;
    };
    form.addEventListener("change", check);
    form.addEventListener("submit", (event) => {
      if (!check()) event.preventDefault();
    });
  });
}

document.addEventListener("DOMContentLoaded", () => guardUploads(document));
