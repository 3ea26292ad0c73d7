// Puppeteer downloads its own Chrome on install unless a system browser is there to use.
// Where CHROME_PATH or Debian's chromium exists we skip the download (and machines with no
// network beyond the npm registry can still `npm install`); elsewhere puppeteer fetches Chrome.
const { existsSync } = require('node:fs');

const systemBrowser = process.env.CHROME_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : '');

module.exports = { skipDownload: systemBrowser !== '' };
