/**
 * What every layer may know about a slot: its record and row mapping, and the plan arithmetic
 * (resources and price from add-ons). It sits below accounts, slots and deployments so that
 * each of them can import it without importing one another upwards (docs/layers.md).
 */
export * from './slot-record';
export * from './plan';
