// MovR's only script: maps, live ride durations, confirmations. No inline scripts anywhere
// (the Content-Security-Policy forbids them); everything is wired from data-* attributes.
(function () {
  "use strict";

  function baseMap(element) {
    var centre = [parseFloat(element.dataset.lat), parseFloat(element.dataset.lng)];
    var map = L.map(element, { scrollWheelZoom: false }).setView(centre, 13);
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
    return L.divIcon({ html: node, className: "", iconSize: [32, 32], iconAnchor: [16, 16] });
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
    document.querySelectorAll(element.dataset.markers).forEach(function (row) {
      var lat = parseFloat(row.dataset.lat), lng = parseFloat(row.dataset.lng);
      if (isNaN(lat) || isNaN(lng)) { return; }
      var available = !!row.querySelector("form.movr-start-form");
      L.marker([lat, lng], { icon: pin(row.dataset.type, available), title: row.dataset.title, alt: row.dataset.title })
        .bindPopup(popupFor(row))
        .addTo(map);
      bounds.push([lat, lng]);
    });
    if (bounds.length > 1) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 }); }
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
    if (typeof L === "undefined") { return; }  // Leaflet failed to load: the tables still work
    document.querySelectorAll("#map[data-markers]").forEach(vehicleMap);
    document.querySelectorAll("#map[data-pick]").forEach(pickerMap);
  });
})();
