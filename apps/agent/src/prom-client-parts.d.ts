// prom-client's index also loads its Pushgateway (http, https), cluster aggregator, Summary and
// default-metric collectors; the agent needs four classes, and loading only them takes a large
// share off its start time. Each file exports its class; the types are the package's own.
declare module 'prom-client/lib/registry.js' {
  import { Registry } from 'prom-client';
  export default Registry;
}
declare module 'prom-client/lib/counter.js' {
  import { Counter } from 'prom-client';
  export default Counter;
}
declare module 'prom-client/lib/gauge.js' {
  import { Gauge } from 'prom-client';
  export default Gauge;
}
declare module 'prom-client/lib/histogram.js' {
  import { Histogram } from 'prom-client';
  export default Histogram;
}
