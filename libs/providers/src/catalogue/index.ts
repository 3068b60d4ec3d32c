import { airtable } from './airtable';
import { asana } from './asana';
import { atlassian } from './atlassian';
import { bloom } from './bloom';
import { bloomerang } from './bloomerang';
import { box } from './box';
import { calendly } from './calendly';
import { canva } from './canva';
import { constantContact } from './constant-contact';
import { docusign } from './docusign';
import { dropbox } from './dropbox';
import type { CatalogueEntry } from './entry';
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
import { oauth2 } from './oauth2';
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

export * from './entry';
export * from './rules';

/** Every provider `POST /admin/integrations` accepts, in the order `GET /admin/providers` lists them. */
export const CATALOGUE: readonly CatalogueEntry[] = [
  bloomerang,
  bloom,
  oauth2,
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

export const CATALOGUE_IDS: readonly string[] = CATALOGUE.map((entry) => entry.id);

const BY_ID = new Map(CATALOGUE.map((entry) => [entry.id, entry]));

export function catalogueEntry(id: string): CatalogueEntry | undefined {
  return BY_ID.get(id);
}
