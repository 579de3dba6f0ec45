import type { KeyBoundAccepted, KeyBoundEvidence, KeyBoundPresentation } from "./keybound.js";

/** What these helpers need of a consumer: a `KeyBoundConsumer`. */
export interface KeyBoundRequestConsumer {
  verify(presentation: KeyBoundPresentation): Promise<KeyBoundAccepted>;
}

export interface VerifyRequestOptions {
  /** The header carrying the ID Token (`presentTo`'s `idTokenHeader`); default: `id_token` in the JSON body. */
  idTokenHeader?: string;
  /**
   * The externally visible origin (`"https://api.example.com"`): the URL checked against the
   * proof's `htu` is this origin plus the request's path and query. Default: the request's URL,
   * which the Node, Express and Fastify adapters build from the `Host` header. Set it in production.
   */
  origin?: string;
  /** A label for the evidence record. */
  action?: string;
  /** Largest body read, in bytes (400 beyond). Default 65536. */
  maxBodyBytes?: number;
}

/** A refusal: the coded error (with its evidence record) and a ready answer. */
export interface KeyBoundRefusal {
  ok: false;
  error: Error & { code: string; evidence?: KeyBoundEvidence; dpopNonce?: string };
  response: Response;
}

export type VerifyRequestResult = { ok: true; accepted: KeyBoundAccepted; body: unknown } | KeyBoundRefusal;

/**
 * Verifies the presentation a Fetch API request carries (`DPoP` header, ID Token in the JSON
 * body's `id_token` or in `idTokenHeader`). Refusals come with a ready `response`: 401
 * `use_dpop_nonce` with `DPoP-Nonce` for nonce refusals, 503 when the replay store is down, 400
 * for a malformed request, 401 `invalid_dpop_proof` / `invalid_token` otherwise.
 */
export function verifyRequest(consumer: KeyBoundRequestConsumer, request: Request, options?: VerifyRequestOptions): Promise<VerifyRequestResult>;

/** The parts of a Node `http.IncomingMessage` used here. */
export interface NodeIncomingMessage extends AsyncIterable<Uint8Array> {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
}
/** The parts of a Node `http.ServerResponse` used here. */
export interface NodeServerResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: Uint8Array): unknown;
}

/** A Fetch API `Request` for a Node `http.IncomingMessage` (body streamed). */
export function nodeToRequest(req: NodeIncomingMessage, options?: { origin?: string }): Request;

/** Writes a Fetch API `Response` to a Node `http.ServerResponse`. */
export function sendNodeResponse(res: NodeServerResponse, response: Response): Promise<void>;

/** Node `http`: verifies `req`; when refused, the answer has already been sent on `res`. */
export function verifyNodeRequest(
  consumer: KeyBoundRequestConsumer, req: NodeIncomingMessage, res: NodeServerResponse, options?: VerifyRequestOptions,
): Promise<VerifyRequestResult>;

declare global {
  namespace Express {
    interface Request {
      /** Set by `keyboundExpress` when the presentation was accepted. */
      keybound?: KeyBoundAccepted;
    }
  }
}

/** Express middleware: sets `req.keybound` (and `req.body` when it read the body) on acceptance, sends the refusal otherwise. */
export function keyboundExpress(
  consumer: KeyBoundRequestConsumer, options?: VerifyRequestOptions,
): (req: NodeIncomingMessage & { keybound?: KeyBoundAccepted; body?: unknown }, res: NodeServerResponse, next: (err?: unknown) => void) => void;

/** Fastify `preHandler` hook: sets `request.keybound` on acceptance, sends the refusal otherwise. */
export function keyboundFastify(
  consumer: KeyBoundRequestConsumer, options?: VerifyRequestOptions,
): (request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body?: unknown; keybound?: KeyBoundAccepted },
    reply: { code(status: number): unknown; headers(h: Record<string, string>): unknown; send(body: string): unknown }) => Promise<unknown>;
