// Render the math that pymdownx.arithmatex (generic mode) marked with class "arithmatex":
// \( ... \) inline and \[ ... \] display. Material's document$ emits on every page load,
// instant navigation included. KaTeX itself is vendored under assets/katex/.
document$.subscribe(({ body }) => {
  for (const element of body.querySelectorAll(".arithmatex")) {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false },
      ],
      throwOnError: false,
    });
  }
});
