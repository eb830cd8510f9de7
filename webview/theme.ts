/**
 * Colours come from VS Code's theme variables, so charts match light, dark and high-contrast
 * themes. VS Code swaps the variables and the body class (`vscode-light`, `vscode-dark`,
 * `vscode-high-contrast`) on a theme change; `watchTheme` re-reads them then.
 */
export interface Theme {
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  error: string;
  warning: string;
  fontFamily: string;
  fontSize: number;
  /** Distinct series colours (VS Code's chart palette first). */
  palette: string[];
  /** Named roles, so a measure keeps its colour across charts. */
  blue: string;
  orange: string;
  green: string;
  purple: string;
  red: string;
  yellow: string;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v.length > 0 ? v : fallback;
}

export function readTheme(): Theme {
  const s = getComputedStyle(document.body);
  const dark = !document.body.classList.contains('vscode-light');
  const foreground = cssVar(s, '--vscode-editor-foreground', dark ? '#cccccc' : '#333333');
  const t = {
    blue: cssVar(s, '--vscode-charts-blue', '#3794ff'),
    orange: cssVar(s, '--vscode-charts-orange', '#d18616'),
    green: cssVar(s, '--vscode-charts-green', '#89d185'),
    purple: cssVar(s, '--vscode-charts-purple', '#b180d7'),
    red: cssVar(s, '--vscode-charts-red', '#f14c4c'),
    yellow: cssVar(s, '--vscode-charts-yellow', '#cca700'),
  };
  return {
    ...t,
    foreground,
    muted: cssVar(s, '--vscode-descriptionForeground', dark ? '#9d9d9d' : '#717171'),
    background: cssVar(s, '--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    grid: cssVar(s, '--vscode-charts-lines', dark ? 'rgba(128,128,128,0.35)' : 'rgba(0,0,0,0.12)'),
    error: cssVar(s, '--vscode-errorForeground', '#f48771'),
    warning: cssVar(s, '--vscode-editorWarning-foreground', '#cca700'),
    fontFamily: cssVar(s, '--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: Number.parseFloat(cssVar(s, '--vscode-font-size', '13')) || 13,
    // Hues beyond VS Code's six are spaced so up to ~12 layers stay distinguishable.
    palette: [t.blue, t.orange, t.green, t.purple, t.red, t.yellow, '#4ec9b0', '#c586c0', '#9cdcfe', '#ce9178', '#6a9955', '#d7ba7d'],
  };
}

/** Calls `onChange` after VS Code switches theme (it rewrites the body class and style). */
export function watchTheme(onChange: () => void): void {
  const obs = new MutationObserver(() => onChange());
  obs.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind', 'style'] });
  // The variables themselves are set on <html>; a theme whose kind does not change (dark → dark) only touches those.
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
