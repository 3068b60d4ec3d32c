import type { ProviderProfile } from '../profile';
import { airtable } from './airtable';
import { atlassian } from './atlassian';
import { box } from './box';
import { canva } from './canva';
import { docusign } from './docusign';
import { dropbox } from './dropbox';
import { exactOnline } from './exact-online';
import { githubApp } from './github-app';
import { google } from './google';
import { hubspot } from './hubspot';
import { microsoft } from './microsoft';
import { pipedrive } from './pipedrive';
import { quickbooks } from './quickbooks';
import { salesforce } from './salesforce';
import { shopify } from './shopify';
import { slack } from './slack';
import { x } from './x';
import { xero } from './xero';
import { zendesk } from './zendesk';
import { zoho } from './zoho';
import { zoom } from './zoom';

/** Every provider profile the sandbox serves, each under `/<id>/`. */
export const PROVIDER_PROFILES: readonly ProviderProfile[] = [
  google,
  microsoft,
  salesforce,
  hubspot,
  xero,
  quickbooks,
  zoom,
  slack,
  atlassian,
  githubApp,
  dropbox,
  box,
  docusign,
  shopify,
  zendesk,
  pipedrive,
  zoho,
  x,
  canva,
  airtable,
  exactOnline,
];
