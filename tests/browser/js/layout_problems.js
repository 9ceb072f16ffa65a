() => {
  // Sideways scrolling: the page wider than the screen, a box that scrolls sideways, or an
  // element sticking out of the screen (the map clips its own tiles). Returns what it found.
  const width = window.innerWidth;
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "")
    + " '" + (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 40) + "'";
  const doc = document.documentElement;
  if (doc.scrollWidth > width) { problems.push(`page is ${doc.scrollWidth} px wide at ${width} px`); }
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(".leaflet-container")) { continue; }  // the map clips its own tiles
    const style = getComputedStyle(el);
    if (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${name(el)} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
    }
    const box = el.getBoundingClientRect();
    if (box.width > 1 && style.visibility !== "hidden" && (box.right > width + 1 || box.left < -1)) {
      problems.push(`${name(el)} sticks out: ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  return problems;
}
