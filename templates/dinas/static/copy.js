// "Salin" buttons of the product page's upload kit: shown only when this script runs (without it the fields
// are plain read-only text to select and copy). No external file, no library.
document.querySelectorAll("button.copy-button").forEach(function (button) {
  var field = document.getElementById(button.dataset.copy);
  var label = button.textContent;
  button.hidden = false;
  button.addEventListener("click", function () {
    field.select();
    var done = function () { button.textContent = button.dataset.done; setTimeout(function () { button.textContent = label; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); }); }
    else { document.execCommand("copy"); done(); }
  });
});
