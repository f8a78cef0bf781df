// "Imprimer" buttons: tablets have no Ctrl+P. The buttons are hidden in the
// page and shown here, so that without JavaScript no button does nothing.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-imprimer]");
  Array.prototype.forEach.call(buttons, function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
}());
