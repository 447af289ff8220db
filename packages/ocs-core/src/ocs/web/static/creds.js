// Passwords the operator typed, per agent address. Kept in this page's
// memory only: never written to localStorage, sessionStorage or cookies,
// gone when the tab is closed or reloaded.
const passwords = new Map();

export function getPassword(address) { return passwords.get(address) || ''; }

export function setPassword(address, value) {
  if (value) passwords.set(address, value); else passwords.delete(address);
}
