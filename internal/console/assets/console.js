// console.js: the little the console needs beyond HTML. It tells the server
// the reader's time zone (a cookie), so times show in the reader's zone.
(function () {
  "use strict";
  var tz = "";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  if (!tz) { return; }
  var current = (document.cookie.match(/(?:^|; )tidings_tz=([^;]*)/) || [])[1];
  if (current === encodeURIComponent(tz)) { return; }
  document.cookie = "tidings_tz=" + encodeURIComponent(tz) + "; path=/console/; max-age=31536000; samesite=lax";
  // Show this page's times in the right zone once; never loop.
  if (!sessionStorage.getItem("tidings_tz_reloaded")) {
    sessionStorage.setItem("tidings_tz_reloaded", "1");
    location.reload();
  }
})();
