import type { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { CancellationToken, Disposable, ResponseError } from 'vscode-languageserver/node';

type Handler<P, R, E> = (params: P, token: CancellationToken) => R | ResponseError<E> | Promise<R | ResponseError<E>>;
declare module 'vscode-languageserver' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface _Connection<PConsole, PTracer, PTelemetry, PClient, PWindow, PWorkspace, PLanguages, PNotebooks> {
    onRequest<R, E>(type: RequestType0<R, E>, handler: (token: CancellationToken) => R | ResponseError<E> | Promise<R | ResponseError<E>>): Disposable;
    onRequest<P, R, E>(type: RequestType<P, R, E>, handler: Handler<P, R, E>): Disposable;
    onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): Disposable;
  }
}
export {};
