/** The parts of the Web Speech API's recognizer Flick uses (Chromium ships it prefixed). */
interface RecognitionResultList {
  length: number;
  [i: number]: { isFinal: boolean; 0: { transcript: string } };
}
interface Recognition {
  continuous: boolean;
  interimResults: boolean;
  lang: string;
  onresult: ((e: { resultIndex: number; results: RecognitionResultList }) => void) | null;
  onerror: ((e: unknown) => void) | null;
  start(): void;
  stop(): void;
  abort(): void;
}
type RecognitionConstructor = new () => Recognition;

export interface LiveTranscript {
  /** What was heard so far (final words, then the words still being recognized). */
  text(): string;
  stop(): void;
  abort(): void;
}

/**
 * Listens along with the recording where the browser recognizes speech itself, calling `onText`
 * as words arrive; null where it cannot. The audio is sent either way: these words only show the
 * person what was heard and give the agent something to start on until the server's transcript.
 */
export function startLiveTranscript(onText: (text: string) => void): LiveTranscript | null {
  const w = window as unknown as {
    SpeechRecognition?: RecognitionConstructor;
    webkitSpeechRecognition?: RecognitionConstructor;
  };
  const Ctor = w.SpeechRecognition ?? w.webkitSpeechRecognition;
  if (!Ctor) return null;
  let finalText = "";
  let interim = "";
  const joined = () => `${finalText} ${interim}`.replace(/\s+/g, " ").trim();
  try {
    const recognition = new Ctor();
    recognition.continuous = true;
    recognition.interimResults = true;
    recognition.lang = navigator.language || "en-US";
    recognition.onresult = (e) => {
      interim = "";
      for (let i = e.resultIndex; i < e.results.length; i++) {
        const result = e.results[i];
        if (!result) continue;
        if (result.isFinal) finalText += ` ${result[0].transcript}`;
        else interim += ` ${result[0].transcript}`;
      }
      onText(joined());
    };
    // No recognition service (offline, refused): the recording still goes to the server.
    recognition.onerror = () => {};
    recognition.start();
    return {
      text: joined,
      stop: () => {
        try {
          recognition.stop();
        } catch {
          // already stopped
        }
      },
      abort: () => {
        try {
          recognition.abort();
        } catch {
          // already stopped
        }
      },
    };
  } catch {
    return null;
  }
}
