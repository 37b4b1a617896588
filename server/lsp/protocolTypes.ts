// Lets the server's connection take the typed messages of common/protocol.ts.
//
// Why this exists: vscode-languageserver pins its own copy of vscode-languageserver-protocol (3.18.4, jsonrpc 9),
// while the extension's vscode-languageclient and common/protocol.ts use the top-level one (3.18.5, jsonrpc 10).
// Their RequestType classes have private members, so TypeScript treats the two copies as unrelated types and
// `connection.onRequest(Methods.routing, …)` would not compile. At run time the server's connection needs only the
// method name from such an object: it dispatches requests and notifications by `type.method` and sends notifications
// by `type.method` (vscode-languageserver/lib/common/server.js), so the objects work as they are. This augmentation
// adds the matching overloads; the handler and parameter types come from the message objects.
import type { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { CancellationToken, Disposable, ResponseError } from 'vscode-languageserver/node';

type Reply<R, E> = R | ResponseError<E> | Promise<R | ResponseError<E>>;

declare module 'vscode-languageserver' {
  // The type parameters must repeat the library's declaration for the interfaces to merge.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface _Connection<PConsole, PTracer, PTelemetry, PClient, PWindow, PWorkspace, PLanguages, PNotebooks> {
    onRequest<R, E>(type: RequestType0<R, E>, handler: (token: CancellationToken) => Reply<R, E>): Disposable;
    onRequest<P, R, E>(type: RequestType<P, R, E>, handler: (params: P, token: CancellationToken) => Reply<R, E>): Disposable;
    onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): Disposable;
    sendNotification<P>(type: NotificationType<P>, params: P): Promise<void>;
  }
}
