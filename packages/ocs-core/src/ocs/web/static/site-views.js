// A site's own views for its agent classes. The panel shipped with ocs-core
// registers none here; a site serving its own copy of the panel
// (`ocs-router config --web-dir DIR`) replaces this file, e.g.:
//
//   import { html } from './lib.js';
//   import { registerView } from './views.js';
//   function ThermometerView({ agent }) { return html`<p>${agent.address}</p>`; }
//   registerView('LS240Agent', ThermometerView);
export {};
