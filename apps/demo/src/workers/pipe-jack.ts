// Jack, a child process: attaches his end of the pipe (a token in argv) and receives what Ken sent.
import { attach, type SocketConnection } from '@conc/pipe';

const conn = attach(JSON.parse(process.argv[2] as string)) as SocketConnection<{
  gift: string;
  from: string;
}>;
const { gift, from } = await conn.recv({ timeout: 20_000 });
process.send?.(`Jack (pid ${process.pid}): recv() -> a ${gift} from ${from}`);
await conn.close();
