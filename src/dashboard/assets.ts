/**
 * The dashboard's stylesheet, served at /dashboard/assets/app.css (no build step). Small,
 * responsive (one column on phones), readable contrast, visible focus rings.
 */
export const APP_CSS = `
:root { --fg: #1b1f24; --muted: #57606a; --bg: #f6f8fa; --card: #fff; --line: #d0d7de; --accent: #0b5cad; --accent-fg: #fff; --danger: #b42318; --ok: #1a7f37; }
* { box-sizing: border-box; }
html { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
body { margin: 0; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #ff9e2c; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem 1rem; }
.skip:focus { left: 1rem; z-index: 10; }
.site-header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between; padding: .75rem 1.25rem; background: var(--card); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.2rem; text-decoration: none; color: var(--fg); }
.top-nav { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
.who { color: var(--muted); }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
main:focus { outline: none; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1.25rem; margin-bottom: 1rem; }
.narrow { max-width: 28rem; margin: 0 auto; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
.hint { color: var(--muted); font-size: .9rem; margin: .25rem 0; }
input[type=text], input[type=email], input[type=password], input[type=url], textarea { width: 100%; padding: .55rem .65rem; border: 1px solid #8c959f; border-radius: 6px; font: inherit; background: #fff; color: var(--fg); }
textarea { min-height: 5rem; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .75rem 0; padding: .5rem 1rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.checks { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: .25rem 1rem; }
.checks label, .radio label { font-weight: 400; margin: .2rem 0; display: flex; gap: .5rem; align-items: flex-start; }
button, .button { display: inline-block; padding: .55rem 1rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--danger); border-color: var(--danger); }
button.link { background: none; border: 0; color: var(--accent); padding: 0; font-weight: 400; text-decoration: underline; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; margin-top: 1rem; align-items: center; }
form.inline { display: inline; margin: 0; }
.notice { padding: .75rem 1rem; border-radius: 6px; margin: 0 0 1rem; border: 1px solid; }
.notice-error { color: var(--danger); border-color: var(--danger); background: #fff5f5; }
.notice-success { color: var(--ok); border-color: var(--ok); background: #f0fff4; }
.notice-info { border-color: var(--line); background: var(--card); }
.field-error { color: var(--danger); margin: .25rem 0; font-size: .95rem; }
.tabs { display: flex; gap: .25rem; border-bottom: 1px solid var(--line); margin-bottom: 1.5rem; flex-wrap: wrap; padding: 0; list-style: none; }
.tabs a { display: block; padding: .5rem .9rem; text-decoration: none; border: 1px solid transparent; border-bottom: 0; border-radius: 6px 6px 0 0; color: var(--fg); }
.tabs a[aria-current=page] { background: var(--card); border-color: var(--line); font-weight: 600; margin-bottom: -1px; }
.section-head { display: flex; justify-content: space-between; align-items: center; gap: 1rem; flex-wrap: wrap; }
.section-head h2 { margin: 1.5rem 0 .75rem; }
table { width: 100%; border-collapse: collapse; background: var(--card); }
th, td { text-align: left; padding: .55rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .9rem; color: var(--muted); }
code, .secret { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
.secret { display: block; padding: .6rem; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; user-select: all; }
dialog { border: 1px solid var(--line); border-radius: 8px; max-width: 36rem; width: calc(100% - 2rem); padding: 1.25rem; }
dialog::backdrop { background: rgba(0,0,0,.35); }
.scope-list { padding-left: 1.25rem; }
td .scope-list { margin: 0; }
.muted { color: var(--muted); }
@media (max-width: 40rem) {
  table, thead, tbody, tr, th, td { display: block; }
  thead { position: absolute; left: -999px; }
  tr { border-bottom: 1px solid var(--line); padding: .5rem 0; }
  td { border: 0; padding: .2rem .6rem; }
  td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
}
`;
