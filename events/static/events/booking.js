// The guardian's consent shows, and is required, only while a child under 14 is chosen.
// Without JavaScript the box shows whenever such a child can be chosen (required in the page only
// when nobody else can be), and the server refuses a child's booking without it, not anyone else's.
document.querySelectorAll("[data-book-form]").forEach((form) => {
  const select = form.querySelector("select[name=participant]");
  const box = form.querySelector("[data-consent-box]");
  if (!select || !box) return;
  const follow = () => {
    const child = select.selectedOptions[0] && select.selectedOptions[0].hasAttribute("data-consent");
    box.hidden = !child;
    box.querySelector("input").required = child;
  };
  select.addEventListener("change", follow);
  follow();
});
