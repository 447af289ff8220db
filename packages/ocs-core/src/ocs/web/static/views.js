// Custom views for agent classes. An agent page shows the view registered
// for its agent class above the generic operations (which are always
// there). A view is a preact component; it gets `agent` (address, api,
// ops(action, op_name, params) with the page's password) and `wamp`.
//
// A site adds one in site-views.js (see the ocs-core README):
//     import { registerView } from './views.js';
//     registerView('MyAgent', MyView);
import { HostManagerView } from './hostmanager.js';

const views = new Map();

/** Show `component` on the pages of agents of class `agentClass`. */
export function registerView(agentClass, component) {
  if (typeof agentClass !== 'string' || typeof component !== 'function') {
    throw new TypeError('registerView(agentClass, component): expected a class name and a component function');
  }
  views.set(agentClass, component);
}

/** The view registered for `agentClass`, or null. */
export function viewFor(agentClass) { return views.get(agentClass) || null; }

registerView('HostManager', HostManagerView);
