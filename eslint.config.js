// ESLint for the editor's browser modules (`make lint-js`, run by `make test`).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["app/editor/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-implicit-globals": "error",
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: "Build nodes with h() (no HTML from data)." },
        { property: "outerHTML", message: "Build nodes with h() (no HTML from data)." },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "AssignmentExpression[left.property.name='innerHTML']", message: "Build nodes with h()." },
      ],
    },
  },
  {
    // The classic script that loads Monaco's AMD build (it defines `require`).
    files: ["app/editor/static/js/monaco-boot.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.browser, require: "readonly" } },
  },
  { ignores: ["app/editor/static/vs/**", "app/static/**", "node_modules/**"] },
];
