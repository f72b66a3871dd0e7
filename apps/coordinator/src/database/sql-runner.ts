/** The few raw-SQL operations the migrator and the schema checks need, over PGlite or pg. */
export interface SqlRunner {
  /** Runs a script of several statements (simple query protocol, no parameters). */
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}
