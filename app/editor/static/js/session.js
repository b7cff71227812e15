// The API token lives in this tab's sessionStorage only (SPEC §9).
const KEY = "ade.token";

export function getToken() {
  return sessionStorage.getItem(KEY);
}

export function setToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  location.assign("/signin");
}

/** Send the user to the sign-in page, coming back here afterwards. */
export function requireSignIn() {
  const next = location.pathname + location.search;
  location.assign("/signin?next=" + encodeURIComponent(next));
}

/** On every page but sign-in: need a token, show the Sign out button. */
export function initSession() {
  if (!getToken()) {
    requireSignIn();
    return false;
  }
  const button = document.getElementById("signout");
  button.hidden = false;
  button.addEventListener("click", signOut);
  return true;
}

/** Who the token is ({name, role, instance_admin, workspace}); shown in the top bar. */
export async function whoAmI(api) {
  const { data } = await api("GET", "/me");
  const badge = document.getElementById("whoami");
  badge.textContent = data.instance_admin ? `${data.name} (instance admin)` : `${data.name} (${data.role})`;
  badge.hidden = false;
  return data;
}
