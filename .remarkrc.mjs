// `npm run check` runs remark over README.md and docs/ with this: every relative link and anchor
// must resolve, offline (remark-validate-links reads the files; it never fetches a URL).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import remarkValidateLinks from 'remark-validate-links';

// Pages that branches not merged yet bring (the injector's). Links to one are checked as soon as
// it is here; empty this list once they have all landed.
const ARRIVING = ['docs/agent-injection.md'];
const absent = ARRIVING.filter((page) => !existsSync(page));
if (absent.length > 0)
  process.stderr.write(`docs:links: not here yet, links to them unchecked: ${absent.join(', ')}\n`);
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export default {
  plugins: [
    [
      remarkValidateLinks,
      {
        repository: false,
        skipPathPatterns: absent.map((page) => new RegExp(`^${escape(resolve(page))}(#|$)`)),
      },
    ],
  ],
};
