// A page with keybound's plain ES module entry: call init() once, then use it.
import init, { KeyBoundClient } from "keybound/web";

// The reference OP serves this page in the example's test (node e2e/examples.mjs), so the issuer
// is this page's origin; put your OP's issuer, client id and redirect URI here.
const issuer = location.origin;
const options = { clientId: "keybound-demo", redirectUri: `${location.origin}/`, scope: "profile offline_access" };

const $ = (id) => document.getElementById(id);
const show = (session) => { $("session").textContent = session ? JSON.stringify(session, null, 2) : ""; };

/** Runs a step; `data-state` on <body> says where the page is (the test reads it). */
async function step(state, fn) {
  document.body.dataset.state = "busy";
  $("error").textContent = "";
  try {
    await fn();
    document.body.dataset.state = state;
  } catch (err) {
    $("error").textContent = `${err.code ?? err.name}: ${err.message}`;
    document.body.dataset.state = "error";
  }
}

await init();
const client = await KeyBoundClient.discover(issuer, options);
await step("ready", async () => {
  if (new URLSearchParams(location.search).has("code")) {
    show(await client.finishLogin(location.href));   // the redirect back from the OP
    history.replaceState(null, "", "/");
    document.body.dataset.signedIn = "yes";
  } else {
    const session = await client.session();
    show(session);
    if (session) document.body.dataset.signedIn = "yes";
  }
});

$("login").onclick = () => step("navigating", () => client.login());
$("refresh").onclick = () => step("refreshed", async () => show(await client.refresh()));
$("userinfo").onclick = () => step("userinfo", async () => {
  const res = await client.fetch(client.userinfoEndpoint);   // Authorization: DPoP + a proof with ath
  $("result").textContent = `UserInfo ${res.status}: ${await res.text()}`;
});

// A module Worker that uses the page's session (split mode: the key stays in IndexedDB).
$("worker").onclick = () => {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = ({ data }) => {
    $("worker-result").textContent = JSON.stringify(data);
    document.body.dataset.worker = data.error ? "error" : "done";
  };
  worker.postMessage({ issuer, options });
};
