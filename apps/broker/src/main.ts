import { x } from '@broker/crypto';
import * as oauth from 'oauth4webapi';
console.log(x, typeof oauth.discoveryRequest);
