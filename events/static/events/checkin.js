// Check-in at the door and the reward hand-over desk: read a QR code with the phone's camera and submit it.
// The page works without this script (type the code); it needs jsQR (site/static/vendor/jsqr).
(function () {
  "use strict";

  var form = document.querySelector("[data-checkin-form]");
  var button = document.querySelector("[data-checkin-scan]");
  var video = document.querySelector("[data-checkin-video]");
  var status = document.querySelector("[data-checkin-camera-status]");
  if (!form || !button || !video || typeof window.jsQR !== "function") return;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;

  var input = form.querySelector("input[name=code]");
  var scanning = form.querySelector("[data-checkin-scanning]");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;
  // The ticket just checked in is probably still in front of the camera: do not send it again.
  var lastCode = button.dataset.lastCode || "";

  // A reward's pick-up QR code is the hand-over page's address with ?code=…: the code is what counts.
  function codeOf(text) {
    try {
      var code = new URL(text).searchParams.get("code");
      if (code) return code;
    } catch (error) { /* not an address: a ticket's "LINLI:…" or a bare code */ }
    return text;
  }

  function normalise(text) {
    var code = text.trim().toUpperCase();
    if (code.indexOf("LINLI:") === 0) code = code.slice(6);
    return code.replace(/[^0-9A-Z]/g, "");
  }

  button.hidden = false;

  function stop() {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
    }
    stream = null;
    video.hidden = true;
    button.textContent = button.dataset.startLabel;
  }

  function tick() {
    if (!stream) return;
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      // A smaller picture decodes faster and a ticket fills much of it anyway.
      var scale = Math.min(1, 640 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (found && found.data && normalise(codeOf(found.data)) !== lastCode) {
        input.value = codeOf(found.data);
        scanning.value = "1";
        stop();
        form.submit();
        return;
      }
    }
    window.requestAnimationFrame(tick);
  }

  function start() {
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        button.textContent = button.dataset.stopLabel;
        status.textContent = "";
        return video.play();
      })
      .then(function () {
        window.requestAnimationFrame(tick);
      })
      .catch(function () {
        stop();
        status.textContent = button.dataset.errorLabel;
      });
  }

  button.addEventListener("click", function () {
    if (stream) {
      stop();
    } else {
      start();
    }
  });

  // After a scanned ticket the page comes back ready for the next one.
  if (button.hasAttribute("data-autostart")) start();
})();
