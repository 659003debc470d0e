/**
 * Hold-to-talk recording, separate from the button that draws it: MediaRecorder (opus in webm, or
 * mp4 where that is all the browser has), a live level from an AnalyserNode, a 2-minute cap.
 */
export const MAX_RECORDING_MS = 2 * 60 * 1000;

export function pickMimeType(isSupported: (t: string) => boolean): string | undefined {
  return ["audio/webm;codecs=opus", "audio/webm", "audio/mp4", "audio/ogg;codecs=opus"].find(isSupported);
}

/** 0..1 loudness of a block of time-domain samples (bytes centred on 128). */
export function levelOf(samples: Uint8Array): number {
  let sum = 0;
  for (const s of samples) sum += ((s - 128) / 128) ** 2;
  return Math.min(1, Math.sqrt(sum / Math.max(1, samples.length)) * 3);
}

export interface Recording {
  blob: Blob;
  durationMs: number;
}

export interface Recorder {
  stop(): Promise<Recording>;
  cancel(): void;
}

export async function startRecording(
  onLevel: (level: number, elapsedMs: number) => void,
  onCap: () => void,
): Promise<Recorder> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true },
  });
  const mimeType = pickMimeType((t) => MediaRecorder.isTypeSupported(t));
  const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
  const chunks: Blob[] = [];
  recorder.ondataavailable = (e) => {
    if (e.data.size > 0) chunks.push(e.data);
  };
  const audio = new AudioContext();
  const analyser = audio.createAnalyser();
  analyser.fftSize = 512;
  audio.createMediaStreamSource(stream).connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  const started = performance.now();
  let frame = 0;
  const tick = () => {
    analyser.getByteTimeDomainData(samples);
    const elapsed = performance.now() - started;
    onLevel(levelOf(samples), elapsed);
    if (elapsed >= MAX_RECORDING_MS) onCap();
    else frame = requestAnimationFrame(tick);
  };
  frame = requestAnimationFrame(tick);
  recorder.start(250);

  const release = () => {
    cancelAnimationFrame(frame);
    for (const track of stream.getTracks()) track.stop();
    void audio.close();
  };
  return {
    stop: () =>
      new Promise<Recording>((resolve) => {
        recorder.onstop = () => {
          release();
          resolve({
            blob: new Blob(chunks, { type: recorder.mimeType }),
            durationMs: Math.round(performance.now() - started),
          });
        };
        recorder.stop();
      }),
    cancel: () => {
      recorder.onstop = release;
      if (recorder.state !== "inactive") recorder.stop();
      else release();
    },
  };
}
