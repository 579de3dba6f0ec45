// An agent component in a dedicated Worker (keybound/agent: the client with the device flow).
// It keeps its own session ("agent"), apart from the page's. It starts as soon as it is loaded:
// the bundled wasm loads with a top-level await, and a message sent to the worker before its
// module has finished evaluating would find no handler.
import { KeyBoundClient } from "keybound/agent";

const issuer = self.location.origin;   // as in main.js: the reference OP serves this app
try {
  const client = await KeyBoundClient.discover(issuer, {
    clientId: "keybound-demo", redirectUri: `${issuer}/`, scope: "profile", session: "agent",
  });
  const login = await client.startDeviceLogin();   // a fresh non-extractable key, bound_key + dpop_jkt
  postMessage({ userCode: login.userCode, verify: login.verificationUriComplete ?? login.verificationUri });
  const session = await client.finishDeviceLogin(login.id);
  const res = await client.fetch(client.userinfoEndpoint);
  postMessage({ done: true, bound: session.bound, sub: session.claims.sub, userinfo: res.status });
} catch (err) {
  postMessage({ done: true, error: `${err.code ?? err.name}: ${err.message}` });
}
