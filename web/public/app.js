// Loaded as a file, not inline: the edge's Content-Security-Policy allows only 'self' scripts.
// A placeholder until the SolidJS gallery lands: lists images and uploads files.
const grid = document.getElementById('grid');
const status = document.getElementById('status');
async function load() {
  const res = await fetch('/api/v1/images?limit=200');
  const page = await res.json();
  grid.replaceChildren(
    ...page.items.map((image) => {
      const figure = document.createElement('figure');
      const img = document.createElement('img');
      img.src = image.urls.thumb;
      img.alt = image.tags.map((t) => t.label).join(', ');
      img.loading = 'lazy';
      const caption = document.createElement('figcaption');
      caption.textContent = image.tags
        .slice(0, 3)
        .map((t) => t.label)
        .join(' · ');
      figure.append(img, caption);
      return figure;
    }),
  );
}
document.getElementById('file').addEventListener('change', async (event) => {
  const files = [...event.target.files];
  for (const [i, file] of files.entries()) {
    status.textContent = `Uploading ${i + 1} of ${files.length}…`;
    const res = await fetch('/api/v1/images', { method: 'POST', body: file });
    if (!res.ok) status.textContent = `${file.name}: ${(await res.json()).detail}`;
  }
  if (status.textContent.startsWith('Uploading')) status.textContent = '';
  load();
});
load();
setInterval(load, 5000);
