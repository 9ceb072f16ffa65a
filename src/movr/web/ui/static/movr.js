// MovR's only script: maps, live ride durations, confirmations, the browser's position. No inline scripts anywhere
// (the Content-Security-Policy forbids them); everything is wired from data-* attributes.
(function () {
  "use strict";

  function baseMap(element) {
    var centre = [parseFloat(element.dataset.lat), parseFloat(element.dataset.lng)];
    // Visitors who ask for reduced motion get a map that jumps instead of gliding.
    var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var map = L.map(element, {
      scrollWheelZoom: false,
      zoomAnimation: !still,
      fadeAnimation: !still,
      markerZoomAnimation: !still
    }).setView(centre, 13);
    // Tiles may be unreachable (offline): the map still shows pins on a plain background.
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 19,
      attribution: element.dataset.attribution || ""
    }).addTo(map);
    return map;
  }

  function pin(type, available) {
    var node = document.createElement("div");
    node.className = "movr-pin" + (available ? "" : " movr-pin-busy");
    var glyph = document.createElement("span");
    glyph.className = "movr-type movr-type-" + type;
    node.appendChild(glyph);
    // 44 px: a touch target (WCAG 2.5.5), like every other control.
    return L.divIcon({ html: node, className: "", iconSize: [44, 44], iconAnchor: [22, 22] });
  }

  function popupFor(row) {
    // Built from DOM nodes and textContent: user-entered text is never parsed as HTML.
    var box = document.createElement("div");
    box.className = "movr-popup";
    var title = document.createElement("div");
    title.className = "movr-popup-title";
    title.textContent = row.dataset.title;
    var detail = document.createElement("div");
    detail.textContent = row.dataset.detail;
    box.appendChild(title);
    box.appendChild(detail);
    var form = row.querySelector("form.movr-start-form");
    if (form) { box.appendChild(form.cloneNode(true)); }
    return box;
  }

  function vehicleMap(element) {
    var map = baseMap(element);
    var bounds = [];
    var markers = {};
    document.querySelectorAll(element.dataset.markers).forEach(function (card) {
      var lat = parseFloat(card.dataset.lat), lng = parseFloat(card.dataset.lng);
      if (isNaN(lat) || isNaN(lng)) { return; }
      var available = !!card.querySelector("form.movr-start-form");
      markers[card.id] = L.marker([lat, lng], { icon: pin(card.dataset.type, available), title: card.dataset.title, alt: card.dataset.title })
        .bindPopup(popupFor(card))
        .addTo(map);
      bounds.push([lat, lng]);
    });
    // The first view, not a move: no zoom animation for pins to drift in while the page loads.
    if (bounds.length > 1) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15, animate: false }); }
    // "Show on map" on a card (hidden until here): centre its pin and open its popup.
    document.querySelectorAll("a.movr-centre[data-vehicle]").forEach(function (link) {
      var marker = markers[link.dataset.vehicle];
      if (!marker) { return; }
      link.classList.remove("d-none");
      link.addEventListener("click", function (event) {
        event.preventDefault();
        element.scrollIntoView({ block: "start" });
        map.setView(marker.getLatLng(), Math.max(map.getZoom(), 15));
        marker.openPopup();
      });
    });
  }

  // The browser's position, asked for only when the person acts (or has allowed it already);
  // it goes to the server in the URL of that one request, rounded, and is stored nowhere.
  function locate(done, failed) {
    navigator.geolocation.getCurrentPosition(function (where) {
      done(where.coords.latitude.toFixed(4), where.coords.longitude.toFixed(4));
    }, failed || function () {}, { maximumAge: 60000, timeout: 10000 });
  }

  function nearestFirst(note) {
    if (note.dataset.nearMe !== "off" || !navigator.geolocation) { return; }
    function go(lat, lng) {
      var url = new URL(window.location.href);
      url.searchParams.delete("cursor");
      url.searchParams.set("lat", lat);
      url.searchParams.set("lng", lng);
      window.location.replace(url.toString());
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-outline-primary";
    button.textContent = "Nearest to me";
    button.addEventListener("click", function () {
      locate(go, function () {
        button.disabled = true;
        button.textContent = "Your location is not available";
      });
    });
    note.appendChild(button);
    if (navigator.permissions) {
      navigator.permissions.query({ name: "geolocation" }).then(function (state) {
        if (state.state === "granted") { locate(go); }
      }, function () {});
    }
  }

  function endWithPosition(form) {
    var button = form.querySelector(".movr-use-position");
    if (!button || !navigator.geolocation) { return; }
    var status = form.querySelector(".movr-position-status");
    var location = form.querySelector("input[name=location]");
    button.classList.remove("d-none");
    button.addEventListener("click", function () {
      if (status) { status.textContent = "Finding your position…"; }
      locate(function (lat, lng) {
        form.querySelector("input[name=latitude]").value = lat;
        form.querySelector("input[name=longitude]").value = lng;
        if (!location.value.trim()) { location.value = "Near " + lat + ", " + lng; }
        if (status) { status.textContent = "Position set: " + lat + ", " + lng + "."; }
      }, function () {
        if (status) { status.textContent = "Your position is not available: type where you leave it."; }
      });
    });
  }

  function pickerMap(element) {
    var map = baseMap(element);
    var inputs = element.dataset.pick.split(",").map(function (s) { return document.querySelector(s); });
    var status = document.querySelector(element.dataset.pickStatus);
    var marker = null;
    function place(latlng) {
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
      inputs[0].value = latlng.lat.toFixed(6);
      inputs[1].value = latlng.lng.toFixed(6);
      if (status) { status.textContent = "Position set: " + inputs[0].value + ", " + inputs[1].value + "."; }
    }
    if (inputs[0].value && inputs[1].value) {
      place(L.latLng(parseFloat(inputs[0].value), parseFloat(inputs[1].value)));
    }
    map.on("click", function (event) { place(event.latlng); });
  }

  function liveDurations() {
    var nodes = document.querySelectorAll("[data-since]");
    if (!nodes.length) { return; }
    function tick() {
      nodes.forEach(function (node) {
        var seconds = Math.max(0, Math.floor((Date.now() - Date.parse(node.dataset.since)) / 1000));
        var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
        node.textContent = (h ? h + " h " : "") + m + " min " + (s < 10 ? "0" : "") + s + " s";
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  function confirmations() {
    document.addEventListener("submit", function (event) {
      var message = event.target.dataset && event.target.dataset.confirm;
      if (message && !window.confirm(message)) { event.preventDefault(); }
    });
  }

  confirmations();  // at once (the script is deferred): no early click skips a confirmation
  document.addEventListener("DOMContentLoaded", function () {
    liveDurations();
    document.querySelectorAll("form.movr-end-form").forEach(endWithPosition);
    document.querySelectorAll("#vehicle-order[data-near-me]").forEach(nearestFirst);
    if (typeof L === "undefined") { return; }  // Leaflet failed to load: the lists still work
    document.querySelectorAll("#map[data-markers]").forEach(vehicleMap);
    document.querySelectorAll("#map[data-pick]").forEach(pickerMap);
  });
})();
