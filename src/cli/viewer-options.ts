/** `--preview-fps` and `--no-viewer`, shared by `serve` and `start`, and the page's URL they print first. */
import type { Command } from 'commander';
import { DEFAULT_PREVIEW_FPS } from '../server/preview';
import type { ViewerOptions } from '../server/viewer';
import { parseNumberOption } from './options';

export interface ViewerCliOptions {
  /** commander's `--no-viewer` sets this false. */
  viewer: boolean;
  previewFps: number;
}

export function addViewerOptions(cmd: Command): Command {
  return cmd
    .option('--no-viewer', 'do not serve the viewer page at / (nor its /preview feed; traces only with --traces)')
    .option('--preview-fps <n>', 'most event-image frames a second per stream sent to viewer pages', parseNumberOption('--preview-fps', { min: 0.1, max: 1000 }), DEFAULT_PREVIEW_FPS);
}

/** The service's `viewer` option from the command line (undefined with --no-viewer). */
export function viewerFromCli(o: ViewerCliOptions): ViewerOptions | undefined {
  return o.viewer ? { previewFps: o.previewFps } : undefined;
}

/** The page's URL: the service's root (the page reads a token from its own `?token=`). */
export function viewerUrl(serviceUrl: string): string {
  return `${serviceUrl}/`;
}
