// `npm run check` runs remark over README.md and docs/ with this: every relative link and anchor
// must resolve, offline (remark-validate-links reads the files; it never fetches a URL).
import remarkValidateLinks from 'remark-validate-links';

export default {
  plugins: [[remarkValidateLinks, { repository: false }]],
};
