import type { ProviderProfile } from '../profile';
import { airtable } from './airtable';
import { asana } from './asana';
import { atlassian } from './atlassian';
import { box } from './box';
import { calendly } from './calendly';
import { canva } from './canva';
import { constantContact } from './constant-contact';
import { docusign } from './docusign';
import { dropbox } from './dropbox';
import { exactOnline } from './exact-online';
import { freshbooks } from './freshbooks';
import { githubApp } from './github-app';
import { google } from './google';
import { gusto } from './gusto';
import { hubspot } from './hubspot';
import { keap } from './keap';
import { microsoft } from './microsoft';
import { myob } from './myob';
import { netsuite } from './netsuite';
import { outreach } from './outreach';
import { pipedrive } from './pipedrive';
import { quickbooks } from './quickbooks';
import { sage } from './sage';
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
  gusto,
  netsuite,
  calendly,
  sage,
  freshbooks,
  constantContact,
  keap,
  myob,
  outreach,
  asana,
];
