export type Principal = { kind: 'customer'; customerId: string; tokenHash: string } | { kind: 'admin' };

declare module 'express' {
  interface Request {
    principal?: Principal;
  }
}
