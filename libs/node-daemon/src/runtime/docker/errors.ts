/**
 * Docker API errors: the engine's status codes that mean an operation had nothing left to do
 * (304 not modified, 404 gone, 409 exists already).
 */

/** A catch handler that accepts Docker's answer `statusCode` and rethrows any other error. */
export function unlessStatus(statusCode: number): (e: { statusCode?: number }) => void {
  return (e) => {
    if (e.statusCode !== statusCode) throw e;
  };
}
