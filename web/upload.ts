/**
 * The example page: `<input type="file" multiple>`, one row per file with its progress, pause /
 * resume, and its `s3://bucket/key` once stored. Everything else is the browser entry of the
 * client package.
 */
import { BrowserUploader, formatBytes, type UploadHandle } from '../client/browser/index.js';
import { loadConfig, tokenSource } from './config.js';

const $ = <T extends HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector(sel) as T;

function row(file: File): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'upload';
  li.innerHTML = `<div class="name"></div><progress max="1" value="0"></progress>
    <div class="line"><span class="state"></span><span class="bytes"></span>
    <button class="pause">Pause</button><button class="resume">Resume</button><button class="cancel">Cancel</button></div>
    <code class="path" hidden></code><div class="error" hidden></div>`;
  $('.name', li).textContent = file.name;
  return li;
}

function bind(li: HTMLLIElement, u: UploadHandle): void {
  $('.pause', li).onclick = () => u.pause();
  $('.resume', li).onclick = () => u.resume();
  $('.cancel', li).onclick = () => void u.cancel();
}

function render(li: HTMLLIElement, u: UploadHandle): void {
  const p = u.progress;
  const done = p?.bytesDone ?? 0;
  const total = p?.bytesTotal ?? u.file.size;
  li.dataset.state = u.state;
  li.dataset.bytesDone = String(done);
  ($('progress', li) as HTMLProgressElement).value = total > 0 ? done / total : u.state === 'done' ? 1 : 0;
  $('.state', li).textContent = u.state;
  $('.bytes', li).textContent = `${formatBytes(done)} of ${formatBytes(total)}${p ? ` (${p.partsDone}/${p.partsTotal} parts)` : ''}`;
  ($('.pause', li) as HTMLButtonElement).disabled = u.state !== 'uploading' && u.state !== 'preparing';
  ($('.resume', li) as HTMLButtonElement).disabled = u.state !== 'paused' && u.state !== 'failed';
  if (u.result) {
    const path = $('.path', li);
    path.hidden = false;
    path.textContent = u.result.file_path;
  }
  const err = $('.error', li);
  err.hidden = !u.error;
  err.textContent = u.error ? u.error.message : '';
}

async function main(): Promise<void> {
  const c = await loadConfig();
  const up = new BrowserUploader({
    apiUrl: c.api_url,
    token: tokenSource(c),
    chunkSize: c.chunk_size,
    concurrency: c.concurrency,
    rateLimit: c.rate_limit,
  });
  // For the tests and the curious: the uploads and their engine events.
  (window as unknown as { mpu: BrowserUploader }).mpu = up;
  const list = $('#uploads');
  const input = $('#files') as HTMLInputElement;
  input.onchange = () => {
    for (const file of Array.from(input.files ?? [])) {
      const li = row(file);
      list.append(li);
      bind(li, up.add(file, (u) => render(li, u)));
    }
    input.value = '';
  };
  $('#status').textContent = `API ${c.api_url}`;
  document.body.dataset.ready = 'true';
}

main().catch((e: unknown) => {
  $('#status').textContent = `cannot start: ${e instanceof Error ? e.message : String(e)}`;
});
