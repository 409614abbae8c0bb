#!/usr/bin/env bash
# Redo docs/img/editor-neovim.png: Debian's Neovim (0.7) in an xterm under Xvfb, editing the
# article's Dockerfile (the bundled flask-demo, committed, then app.py edited) with
# `layerwise server` attached: diagnostics and the code lenses of the next build's prediction.
# Needs: apt-get install neovim xvfb xterm imagemagick fonts-dejavu-core; ./.venv (scripts/_venv.sh).
# Not part of the test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/docs/img/editor-neovim.png}
layerwise=${LAYERWISE:-$here/.venv/bin/layerwise}
display=${DISPLAY_NUM:-:97}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

proj=$tmp/flask-demo
cp -r "$here/src/layerwise/examples/flask-demo" "$proj"
git -C "$proj" init -q
git -C "$proj" add -A
git -C "$proj" -c user.email=demo@example.com -c user.name=demo commit -qm "flask-demo"
sed -i 's/Hello, Docker!/Hello, layerwise!/' "$proj/app.py"   # the one-line change of the article

# The Neovim setup of the README (Neovim 0.7: vim.lsp.start_client + buf_attach_client;
# 0.8+ can use vim.lsp.start as the README shows), plus a lens refresh for the picture.
cat > "$tmp/init.lua" <<LUA
vim.o.termguicolors = false
vim.o.number = true
vim.o.signcolumn = "yes"
vim.o.updatetime = 300
vim.cmd([[
  highlight NormalFloat ctermbg=235 ctermfg=252
  highlight FloatBorder ctermbg=235 ctermfg=244
  highlight DiagnosticError ctermfg=203
  highlight DiagnosticWarn ctermfg=221
  highlight DiagnosticInfo ctermfg=111
  highlight LspCodeLens ctermfg=114 cterm=italic
]])
-- the rule id at the end of the line (the lens follows it), the messages in a float
vim.diagnostic.config({ virtual_text = { format = function(d) return d.code end, spacing = 1 } })
local client_id
vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, {
  pattern = { "Dockerfile", "*.Dockerfile", "Containerfile" },
  callback = function(args)
    client_id = client_id or vim.lsp.start_client({
      name = "layerwise",
      cmd = { "$layerwise", "server" },
      root_dir = vim.fn.getcwd(),
      on_attach = function(client, bufnr)
        vim.api.nvim_create_autocmd({ "BufEnter", "CursorHold", "InsertLeave" }, {
          buffer = bufnr, callback = vim.lsp.codelens.refresh })
        vim.defer_fn(vim.lsp.codelens.refresh, 2500)
        if os.getenv("LW_SHOT") then  -- the picture: the messages of the ADD line in a float below
          vim.defer_fn(function() vim.diagnostic.open_float({ offset_y = 4, max_width = 112, border = "single" }) end, 4500)
        end
      end,
    })
    vim.lsp.buf_attach_client(args.buf, client_id)
  end,
})
LUA

Xvfb "$display" -screen 0 1200x560x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
sleep 1
cd "$proj"
DISPLAY=$display xterm -geometry 118x24+0+0 -fa "DejaVu Sans Mono" -fs 12 -bg "#1e1e1e" -fg "#d4d4d4" \
  -e env LW_SHOT=1 TERM=xterm-256color nvim -u "$tmp/init.lua" -c "call cursor(4, 1)" Dockerfile 2>/dev/null &
pids+=($!)
sleep "${WAIT:-9}"
DISPLAY=$display import -window root "$tmp/screen.png"
# keep the xterm only (it sits at the top left), trim the empty screen around it
convert "$tmp/screen.png" -trim +repage -strip -colors 64 "PNG8:$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
