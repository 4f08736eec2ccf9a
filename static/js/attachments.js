// The project page's upload form on phones: every chosen photo or file goes up in its own request, one after another,
// with a progress bar over all of them; then the page reloads to show them. Without this script the form posts as is.
(function () {
  "use strict";
  var form = document.querySelector("form.attachment-upload");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var inputs = form.querySelectorAll("input[type=file]");
  var chosen = form.querySelector(".attachment-chosen");
  var progress = form.querySelector(".attachment-progress");
  var status = form.querySelector(".attachment-status");

  function selected() {
    var files = [];
    inputs.forEach(function (input) { Array.prototype.push.apply(files, input.files); });
    return files;
  }

  inputs.forEach(function (input) {
    input.addEventListener("change", function () {
      var files = selected();
      chosen.textContent = files.length ? "已选择 " + files.length + " 个：" + files.map(function (f) { return f.name; }).join("、") : "";
    });
  });

  function send(file, done, onProgress) {
    var data = new FormData();
    data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    data.append("target", form.querySelector("select[name=target]").value);
    data.append("files", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) { if (e.lengthComputable) { onProgress(e.loaded); } });
    xhr.addEventListener("load", function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      if (answer && answer.ok) { done(null); return; }
      done(answer && answer.errors ? answer.errors.join("\n") : "“" + file.name + "”上传失败（" + xhr.status + "），请重试。");
    });
    xhr.addEventListener("error", function () { done("“" + file.name + "”上传中断，请检查网络后重试。"); });
    xhr.send(data);
  }

  form.addEventListener("submit", function (event) {
    var files = selected();
    if (!files.length) { return; }  // the server says what is missing
    event.preventDefault();
    var total = files.reduce(function (sum, f) { return sum + f.size; }, 0) || 1;
    var sent = 0, index = 0, failures = [];
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    function next() {
      if (index === files.length) {
        progress.value = 100;
        var good = files.length - failures.length;
        status.className = "small attachment-status " + (failures.length ? "text-danger" : "text-success");
        status.textContent = "已上传 " + good + " 个，失败 " + failures.length + " 个。" + (failures.length ? "\n" + failures.join("\n") : "");
        status.style.whiteSpace = "pre-line";
        button.disabled = false;
        if (!failures.length) { window.location.reload(); }
        return;
      }
      var file = files[index];
      status.textContent = "正在上传第 " + (index + 1) + " / " + files.length + " 个：" + file.name;
      send(file, function (error) {
        if (error) { failures.push(error); }
        sent += file.size;
        progress.value = Math.round(100 * sent / total);
        index += 1;
        next();
      }, function (loaded) { progress.value = Math.round(100 * (sent + loaded) / total); });
    }
    next();
  });
}());
