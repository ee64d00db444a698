// Starts `amatac lsp` (docs/language.md, "Editors") for the .amata files VS Code opens.
// Needs `npm install` in this directory (vscode-languageclient). Not tested here: the build
// machines have no VS Code; tests/editors/nvim_lsp_test.sh tests the server with Neovim.
'use strict';
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('amata').get('server.path', 'amatac');
  client = new LanguageClient(
    'amata', 'amata language server', { command, args: ['lsp'] },
    { documentSelector: [{ scheme: 'file', language: 'amata' }] });
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
