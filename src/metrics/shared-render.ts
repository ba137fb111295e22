/**
 * One rendering of the metrics for many scrapes: every scrape that asks while a rendering runs
 * waits for that one, and a finished rendering answers the scrapes of the next `reuseMs` too. So
 * any number of scrapers cost about one rendering per `reuseMs`, where each would otherwise walk
 * every series (and Node's process metrics) on the event loop that serves the API.
 */
export class SharedRender {
  private running: Promise<string> | undefined;
  private last: { text: string; renderedAt: number } | undefined;

  constructor(
    private readonly render: () => Promise<string>,
    private readonly reuseMs: number,
  ) {}

  /** The metrics text: the last rendering while it is recent enough, else the one running or a new one. */
  text(): Promise<string> {
    if (this.last !== undefined && Date.now() - this.last.renderedAt < this.reuseMs) return Promise.resolve(this.last.text);
    this.running ??= this.render()
      .then((text) => {
        this.last = { text, renderedAt: Date.now() };
        return text;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
