const express = require(require.resolve('express', {paths: [process.cwd()]}));
const app = express();
app.get('/t', (req, res) => res.json({id: "01ABC", title: "t", status: "todo", version: 1}));
app.listen(+process.argv[2], '127.0.0.1');
