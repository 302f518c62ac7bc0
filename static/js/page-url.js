// A form re-shown with its errors by the URL it posted to (POST-only: 405 on a reload or a
// bookmark) shows the form's own page in the address bar instead.
const pageUrl = document.body.dataset.pageUrl;
if (pageUrl) {
  history.replaceState(null, "", pageUrl);
}
