// Colours for the charts, from the page's CSS variables (light or dark, by the system).

export function theme() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    background: v('--panel'), text: v('--text'), grid: v('--grid'), up: v('--up'), down: v('--down'),
    ema: v('--ema'), sma: v('--sma'), band: v('--band'), exit: v('--exit'), line: v('--accent'),
  };
}
