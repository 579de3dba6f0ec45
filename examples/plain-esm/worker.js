// Import maps do not reach workers: a Worker imports the entry by its URL.
import init, { KeyBoundClient } from "./node_modules/keybound/pkg/main/web.js";

const ready = init();   // the handler is set at once, so no message arrives before it
self.onmessage = async ({ data: { issuer, options } }) => {
  try {
    await ready;
    const client = await KeyBoundClient.discover(issuer, options);   // the page's session, same key
    const session = await client.session();
    const res = await client.fetch(client.userinfoEndpoint);
    postMessage({ jkt: session?.jkt, userinfo: res.status, body: await res.json() });
  } catch (err) {
    postMessage({ error: `${err.code ?? err.name}: ${err.message}` });
  }
};
