// The board's only script: sign in (Telegram initData or the one-time link's cookie), then fetch
// the board's parts as HTML rendered and escaped by the server, and the flowchart pictures.
(function () {
  "use strict";
  var content = document.getElementById("content");
  var status = document.getElementById("status");
  var signout = document.getElementById("signout");
  var session = "";
  try { session = sessionStorage.getItem("alur_session") || ""; } catch (e) { session = ""; }

  function webApp() { return window.Telegram && window.Telegram.WebApp; }

  function initData() {
    var tg = webApp();
    if (tg && tg.initData) { return tg.initData; }
    var params = new URLSearchParams(location.hash.slice(1));
    return params.get("tgWebAppData") || "";
  }

  function setState(name) { document.body.setAttribute("data-state", name); }

  function fail(text) {
    content.innerHTML = "";
    status.textContent = text;
    status.className = "error";
    setState("error");
  }

  function api(path) {
    var headers = session ? { "X-Alur-Session": session } : {};
    return fetch(path, { headers: headers, credentials: "same-origin" });
  }

  function signIn(data) {
    return fetch("/auth/telegram", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ initData: data })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok || !body.ok) { throw new Error(body.error || "Tidak dapat masuk."); }
        session = body.session;
        try { sessionStorage.setItem("alur_session", session); } catch (e) { /* private mode */ }
        history.replaceState(null, "", location.pathname + location.search);
      });
    });
  }

  function route() {
    var h = decodeURIComponent(location.hash.slice(1));
    if (h.indexOf("kasus/") === 0) { return { part: "case", path: "/api/kasus/" + encodeURIComponent(h.slice(6)) }; }
    var q = h.indexOf("papan?") === 0 ? h.slice(5) : "";
    return { part: "board", path: "/api/papan" + q };
  }

  function pictures() {
    var imgs = content.querySelectorAll("img[data-src]");
    Array.prototype.forEach.call(imgs, function (img) {
      api(img.getAttribute("data-src")).then(function (r) {
        if (!r.ok) { throw new Error(); }
        return r.blob();
      }).then(function (blob) {
        img.src = URL.createObjectURL(blob);
        img.setAttribute("data-loaded", "1");
      }).catch(function () { img.alt = "Bagan alir tidak dapat dimuat."; });
    });
  }

  function wireFilters() {
    var form = document.getElementById("filters");
    if (!form) { return; }
    form.addEventListener("change", function () {
      var params = new URLSearchParams(new FormData(form));
      location.hash = "papan?" + params.toString();
    });
  }

  function render() {
    var r = route();
    status.textContent = "Memuat…";
    status.className = "";
    setState("loading");
    return api(r.path).then(function (resp) {
      return resp.text().then(function (text) {
        if (resp.status === 401) {
          fail("Belum masuk atau sesi berakhir. Buka papan dari tombol 📊 Buka papan di Telegram, " +
               "atau minta tautan masuk baru.");
          return;
        }
        if (!resp.ok) { fail(text || "Terjadi kesalahan."); return; }
        content.innerHTML = text;
        status.textContent = "";
        signout.hidden = false;
        setState(r.part);
        wireFilters();
        pictures();
        window.scrollTo(0, 0);
      });
    }).catch(function () { fail("Papan tidak dapat dihubungi."); });
  }

  signout.addEventListener("click", function () {
    fetch("/keluar", { method: "POST", credentials: "same-origin", headers: session ? { "X-Alur-Session": session } : {} })
      .then(function () {
        session = "";
        try { sessionStorage.removeItem("alur_session"); } catch (e) { /* ignore */ }
        signout.hidden = true;
        fail("Anda sudah keluar.");
      });
  });

  window.addEventListener("hashchange", render);
  window.addEventListener("load", function () {
    var tg = webApp();
    if (tg) { try { tg.ready(); tg.expand(); } catch (e) { /* not in Telegram */ } }
  });

  var data = initData();
  if (data) {
    signIn(data).then(render).catch(function (err) { fail(err.message); });
  } else {
    render();
  }
})();
