// The Norm extension: starts `norm lsp` and connects VS Code's language client to it.
// Everything else (diagnostics, hover, completion, formatting, test lenses) comes from the
// server; the TextMate grammar colours the text before it answers.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function serverOptions() {
  const command = vscode.workspace.getConfiguration('norm').get('server.path') || 'norm';
  return { command, args: ['lsp'] };
}

async function start(context) {
  client = new LanguageClient(
    'norm',
    'Norm',
    serverOptions(),
    {
      documentSelector: [{ scheme: 'file', language: 'norm' }],
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher('**/*.norm'),
      },
    }
  );
  await client.start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('norm.restartServer', async () => {
      if (client) {
        await client.stop();
      }
      await start(context);
    })
  );
  await start(context);
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
