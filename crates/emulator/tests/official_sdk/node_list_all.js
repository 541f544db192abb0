// List every workflow execution from a cos-ci emulator with the OFFICIAL
// Tencent Cloud Node.js SDK (cos-nodejs-sdk-v5), paging by NextToken.
//
//   npm install cos-nodejs-sdk-v5
//   cargo run -p cos-ci-emulator -- --executions 150 --session-token tok-123 &
//   node crates/emulator/tests/official_sdk/node_list_all.js PORT
//
// Prints "N executions in P pages via the official Node.js SDK". The Node SDK
// has no CI listing function: its demos call the generic `cos.request`. It
// adds the token after signing (unsigned) and returns one result as an
// object rather than an array.
const COS = require('cos-nodejs-sdk-v5');

const port = process.argv[2];
const cos = new COS({
  SecretId: 'AKIDcosciEMULATOR0000000000000000',
  SecretKey: 'cosciEmulatorSecretKey0000000000',
  SecurityToken: 'tok-123',
  Protocol: 'http:',
});

function page(nextToken) {
  const query = { size: '100', startCreationTime: '2020-01-01T00:00:00+0800' };
  if (nextToken) query.nextToken = nextToken;
  return new Promise((resolve, reject) => {
    cos.request({
      Bucket: 'examplebucket-1250000000',
      Region: 'ap-beijing',
      Method: 'GET',
      Key: 'workflowexecution',
      Url: `http://127.0.0.1:${port}/workflowexecution`,
      Query: query,
    }, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

(async () => {
  let total = 0;
  let pages = 0;
  let token = '';
  do {
    const data = await page(token);
    pages += 1;
    let items = (data.Response && data.Response.WorkflowExecutionList) || [];
    if (!Array.isArray(items)) items = [items];
    total += items.length;
    token = (data.Response && data.Response.NextToken) || '';
  } while (token);
  console.log(`${total} executions in ${pages} pages via the official Node.js SDK`);
})().catch((err) => { console.error(JSON.stringify(err)); process.exit(1); });
