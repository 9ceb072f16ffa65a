(minimum) => {
  // Controls smaller than `minimum` px either way (WCAG 2.5.5), except links inside text.
  const small = [];
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary, .leaflet-marker-icon";
  for (const el of document.querySelectorAll(controls)) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width <= 1 || box.height <= 1 || style.visibility === "hidden") { continue; }  // not shown
    // WCAG 2.5.5's exception: a link inside a sentence or a block of text.
    if (style.display === "inline" && el.closest("p, .form-text, .leaflet-control-attribution")) { continue; }
    if (box.width < minimum || box.height < minimum) {
      small.push(`${el.tagName.toLowerCase()} '${(el.innerText || el.getAttribute("aria-label") || el.name || "").trim().slice(0, 30)}' is ${box.width.toFixed(1)}x${box.height.toFixed(1)}`);
    }
  }
  return small;
}
